"""Landmark index lists of the MediaPipe face mesh (468 points) as closed polygons.

The upstream ``face_mesh_connections`` lists edges; here each region is one ordered
ring so it can be filled directly.  "right"/"left" are the *subject's* sides, as
upstream names them: the subject's right eye is on the image's left in an
unmirrored photo (points 33 = outer corner, 133 = inner corner).
"""
from __future__ import annotations

# Face outline, clockwise from the top of the forehead (10) down to the chin (152).
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
    377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)

# Lips: outer ring (lower edge 61->291, then the upper edge back) and inner ring
# (the mouth opening, 78->308 along the lower lip, back along the upper lip).
LIPS_OUTER = (
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291,
    409, 270, 269, 267, 0, 37, 39, 40, 185,
)
LIPS_INNER = (
    78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308,
    415, 310, 311, 312, 13, 82, 81, 80, 191,
)

# Eyes (the lid margins): lower lid from the outer to the inner corner, upper lid back.
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_EYE_CORNERS = (33, 133)  # outer, inner
LEFT_EYE_CORNERS = (263, 362)

# Eyebrows: lower edge from the outer end inwards, then the upper edge back out.
RIGHT_EYEBROW = (46, 53, 52, 65, 55, 107, 66, 105, 63, 70)
LEFT_EYEBROW = (276, 283, 282, 295, 285, 336, 296, 334, 293, 300)

# Single points used for alignment and checks.
NOSE_TIP = 1
CHIN = 152
FOREHEAD = 10

REGIONS = {
    "face_oval": FACE_OVAL,
    "lips_outer": LIPS_OUTER,
    "lips_inner": LIPS_INNER,
    "right_eye": RIGHT_EYE,
    "left_eye": LEFT_EYE,
    "right_eyebrow": RIGHT_EYEBROW,
    "left_eyebrow": LEFT_EYEBROW,
}

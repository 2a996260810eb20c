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

# The attention mesh (face_landmark_with_attention) refines three groups of the 468
# points with its own sub-models; each output lists its points in this order (the
# same lists the model's Landmarks2TransformMatrix ops crop around).  "Image-left" is
# the subject's right eye (mesh 33) in an upright, unmirrored crop.
REFINED_LIPS = (
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409,
    78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415,
    76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306, 184, 74, 73, 72, 11, 302, 303, 304, 408,
    62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292, 183, 42, 41, 38, 12, 268, 271, 272, 407,
)
REFINED_RIGHT_EYE = (  # output_left_eye: the subject's right eye and brow
    33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173, 130, 25, 110, 24,
    23, 22, 26, 112, 243, 247, 30, 29, 27, 28, 56, 190, 226, 31, 228, 229, 230, 231, 232, 233,
    244, 113, 225, 224, 223, 222, 221, 189, 35, 124, 46, 53, 52, 65, 143, 111, 117, 118, 119, 120,
    121, 128, 245, 156, 70, 63, 105, 66, 107, 55, 193,
)
REFINED_LEFT_EYE = (  # output_right_eye: the subject's left eye and brow
    263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398, 359, 255, 339, 254,
    253, 252, 256, 341, 463, 467, 260, 259, 257, 258, 286, 414, 446, 261, 448, 449, 450, 451, 452, 453,
    464, 342, 445, 444, 443, 442, 441, 413, 265, 353, 276, 283, 282, 295, 372, 340, 346, 347, 348, 349,
    350, 357, 465, 383, 300, 293, 334, 296, 336, 285, 417,
)

REGIONS = {
    "face_oval": FACE_OVAL,
    "lips_outer": LIPS_OUTER,
    "lips_inner": LIPS_INNER,
    "right_eye": RIGHT_EYE,
    "left_eye": LEFT_EYE,
    "right_eyebrow": RIGHT_EYEBROW,
    "left_eyebrow": LEFT_EYEBROW,
}

"""People: the person matte and the per-person parts (face skin, eyebrows, sclera,
iris, lips, teeth, hair, clothes, body skin), one package.

``analysis`` finds the people in a photo and registers the people mask kinds;
``segmentation`` makes the person mattes (selfie and pose models, sliding crops);
``faces`` finds faces and their mesh landmarks; ``face_parts`` draws the parts from
the landmarks; ``face_topology`` holds the mesh's index tables.  Importing the
package registers the kinds; its names below are what the rest of maskroom uses.
"""
from maskroom.engine.masks.people.analysis import (
    SEGMENTER,
    VERSION,
    PeopleAnalysis,
    PersonInfo,
    all_people_alpha,
    analyse,
    clear_cache,
    detect_people,
)

__all__ = ["SEGMENTER", "VERSION", "PeopleAnalysis", "PersonInfo", "all_people_alpha", "analyse", "clear_cache",
           "detect_people"]

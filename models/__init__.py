"""maskroom's ONNX models, their manifest and licences (package data).

The converters beside this file (convert*.py) are development tools that turned
the upstream weights into these files; they are never imported at run time.
"""

"""Model conversion and checks (dev-time): upstream weights -> the committed ONNX files in models/."""

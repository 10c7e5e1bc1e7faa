"""ONNX models in and out: `cnnplan import MODEL.onnx` (model.py, ops.py) and `--format onnx`
(export.py). Needs the onnx package (pip install "cnnplan[onnx]")."""

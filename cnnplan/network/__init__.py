"""A whole network forward: shapes, params, MACs, receptive fields (`cnnplan shapes`), accepted inputs, PyTorch export."""

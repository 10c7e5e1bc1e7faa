"""One layer: every (k, s, p, d) from one shape to another (`cnnplan solve`), bounds and nearest outputs."""

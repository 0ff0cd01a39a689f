"""Policy documents: what a firm's policy says, checked against a schema, and how its conditions
combine the detectors' findings into a verdict. Pure (no Django): plain data in, plain data out."""

"""`cnnplan import`: read a PyTorch model into a plan file.

The model is traced with torch.fx (symbolically: no forward pass on real data) and mapped node by
node onto cnnplan's layer kinds; the plan's layers are named after the model's modules
(`layer1.0.conv1`), joins after their module and function (`layer1.0.add`). Every import is
checked before anything is written: cnnplan's shapes for the plan must equal the shapes torch's
ShapeProp records node by node (run on the meta device, so no real arithmetic is done), and its
parameter count must equal `sum(p.numel())`.

The steps, a module each: load.py (the target and the model), trace.py (torch.fx and the
shape run), ops.py (the mapping table: one handler per module type, function and method;
docs/import.md lists it), graph.py (node by node onto plan layers), claims.py (plugins' claims
on module types through the `register_importers` hook) and model.py (`import_model`, the whole
command); the plan file is written and checked by cnnplan/importers/plan.py. torch is imported
only inside the functions that need it, so nothing else in cnnplan pays for it.
"""

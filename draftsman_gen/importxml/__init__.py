"""`draftsman-gen import-xml`: Draftsman (Tracepaper) XML models into this project's YAML.

A pipeline of its own, one stage per module, data flowing one way:

    xmltree    read one XML file safely (no DTDs, no entities) into located nodes
    source     find the format (v2 `model.xml` or a v3/v4 per-file repository) and gather
               its elements by kind, reporting what is not imported
    expr       the original's `#` expressions and `|LB|` line breaks into our forms
    translate  elements into YAML documents in this project's layout
    yamlwrite  print them, deterministic, with schema modelines and marks

Problems are Diagnostic values (DG4xx in codes.py), located in the XML source. Nothing here
imports the compiler's stages: the importer writes a model, and `validate` judges it.
"""

def double(flow):
    flow.doubled = flow.size * 2

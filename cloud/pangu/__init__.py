"""The pre-trained dispatch model (``pangu``): entity tokens, the model contract, and (with the ``train`` extra)
the network and its training. The runtime planner is ``cloud.planners.pangu``; see docs/architecture.md, "Cloud"."""

"""One module per rule. Each rule is a pure function of (state, input, limits) -> Decision?"""

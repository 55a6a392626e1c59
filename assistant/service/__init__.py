"""The assistant service: wires the stages into turns, sessions, feedback and traces."""

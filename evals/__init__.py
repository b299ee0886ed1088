"""Steady's eval suite: the labelled retrieval questions, the scripted dialogues and their runner."""

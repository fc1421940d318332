"""The knowledge base (知识库): entries, their versions, search, and the hard cases proposed for it."""

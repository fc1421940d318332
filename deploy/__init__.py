"""The embedded development stack: PostgreSQL, NATS JetStream and Temporal as child processes of
`helpdesk up`, and the supervision of the desk's own processes (five services and the workflow worker).
"""

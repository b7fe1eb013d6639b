"""The HTTP front-end (`carepress serve`): CMS webhooks and the clinic API.

Thin like the CLI: it parses and authenticates requests and calls generator/ and worker/.
"""

"""The notifier (issue 23): sends each alarm's message on the channels its routes name
(notify builds the requests), tracks each in the registry and retries with backoff."""

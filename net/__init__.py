"""Messages between trucks and the cloud: envelope, topics, link models and transports."""

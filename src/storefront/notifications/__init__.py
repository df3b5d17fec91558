"""In-app notifications and their live stream."""

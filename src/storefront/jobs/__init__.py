"""The admin's view of background jobs. The job engine itself is ``storefront.core.jobs``."""

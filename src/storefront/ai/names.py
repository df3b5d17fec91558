"""Names other domains refer to, kept free of imports so any module can use them."""

# The job that fills a product's missing content (enqueued by product create).
GENERATE_CONTENT_JOB = "ai.generate_product_content"

# Keys of the billing worker.
billing_keys = [
  { name = "billing-a", pem_file = "keys/billing-a.pem" },
]

resource "auth0_client_credentials" "billing" {
  client_id             = auth0_client.billing.id
  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name            = "billing-1"
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = <<EOF
-----BEGIN PUBLIC KEY-----
hIrQObDjwAcxTGIQl6KUzZkfHwxmzNIzupTo17p+m3TQHbT4Y/PR04PRuBZ1Tu6j
uRqhgbKrFnp6nKyR9Ep6dZHbCWggGXqZbJyK1Mh0MAzunQOIFj9EWR3wJUpkApFn
6AfgSjnZqZ5vylUPmWJANPyF4TMD4sz/nz+I8yzq1Ca0yk3jO8HA9+/nnmMKQJPB
PjM4Z+/EoSLGKSidEgh/p1mr6Jxw04g90Bq16G0Bs8i4iNUD2th+e7L8md1oKX7e
-----END PUBLIC KEY-----
EOF
    }
  }
}

# Grants live in a module; it gets the client id but does not manage credentials.
module "grants" {
  source    = "./modules/grants"
  client_id = auth0_client.inventory.id
}

resource "auth0_client" "billing" {
  name     = "billing"
  app_type = "non_interactive"
}

resource "auth0_client" "reporting" {
  name     = "reporting"
  app_type = "non_interactive"
}

locals {
  credentials = {
    "billing" = {
      client_id = auth0_client.billing.id
      keys = [
        {
          name                   = "billing-a"
          parse_expiry_from_cert = false
          pem                    = <<EOF
-----BEGIN PUBLIC KEY-----
YmlsbGluZy1hL2JpbGxpbmctYS9iaWxsaW5nLWEvYmlsbGluZy1hL2JpbGxpbmct
YS9iaWxsaW5nLWEvYmlsbGluZy1hL2JpbGxpbmctYS9iaWxsaW5nLWEvYmlsbGlu
Zy1hL2JpbGxpbmctYS9iaWxsaW5nLWEvYmlsbGluZy1hL2JpbGxpbmctYS9iaWxs
aW5nLWEvYmlsbGluZy1hL2JpbGxpbmctYS9iaWxsaW5nLWEvYmlsbGluZy1hL2Jp
bGxpbmctYS9iaWxsaW5nLWEvYmlsbGluZy1hL2JpbGxpbmctYS9iaWxsaW5nLWEv
-----END PUBLIC KEY-----
EOF
        },
      ]
    }
    "reporting" = {
      client_id = auth0_client.reporting.id
      keys = [
        {
          name                   = "reporting-a"
          parse_expiry_from_cert = false
          pem                    = <<EOF
-----BEGIN PUBLIC KEY-----
cmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEv
cmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEv
cmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEv
cmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEv
cmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEv
cmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEvcmVwb3J0aW5nLWEv
-----END PUBLIC KEY-----
EOF
        },
      ]
    }
  }
}

resource "auth0_client_credentials" "all" {
  for_each  = local.credentials
  client_id = each.value.client_id

  authentication_method = "private_key_jwt"

  private_key_jwt {
    dynamic "credentials" {
      for_each = each.value.keys
      content {
        name                   = credentials.value.name
        credential_type        = "public_key"
        algorithm              = try(credentials.value.algorithm, "RS256")
        parse_expiry_from_cert = try(credentials.value.parse_expiry_from_cert, null)
        expires_at             = try(credentials.value.expires_at, null)
        pem                    = credentials.value.pem
      }
    }
  }
}

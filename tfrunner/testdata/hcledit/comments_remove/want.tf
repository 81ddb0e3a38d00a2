resource "auth0_client_credentials" "payments" {
  client_id = auth0_client.payments.client_id # resolved from state

  authentication_method = "private_key_jwt"

  private_key_jwt {
    # Old key: retire after the 2026 rotation.
    # Owner: payments-team
    // New key, added by rekey.
    credentials {
      name            = "payments-2026-01"
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = <<EOF
-----BEGIN CERTIFICATE-----
01kKFSG623nju4ryWjYPo6iAfPZxaB/m4zTWahNVO7c8sjdWucUNku1/TEvYsy9q
/GZYXU4xR1sBKuZjJ1mI86wKrsWA+82tCHbME0mrfMg+iTrliSszSCKxraK+VvSr
PUoLXLjXm0rd5F++2UrEbNrG6jsOjNs4BbKVHLEHDeAIxxJGRJ3coPTZDVRsc91V
HxrQ3y/yWi2qcV2EDkMsLdYZzT9vzpB3XqRjLd9CykLOZar9hB+zZ2Z3Hjhbah9c
-----END CERTIFICATE-----
EOF
    } # end of the new key
  }
}

/*
 * Credentials of the payments gateway.
 */
resource "auth0_client_credentials" "payments" {
  client_id = auth0_client.payments.client_id # resolved from state

  authentication_method = "private_key_jwt" // never client_secret

  private_key_jwt {
    # Current key, in use since 2025-06.
    # Owner: payments-team
    credentials {
      name            = "payments-2025-06" # do not rename: the provider would detach it
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = <<EOF
-----BEGIN CERTIFICATE-----
AFj5t+tIA1YfciM2hsgGHjPT7ojwCyz0X9SzUPHZN+9sOd10Wa+I9scTTRihIWwR
RMw9J6al3TcyE5tmoYtT9kTsrSmo+7qZnq29NeQWzPLo8dJW3RV2K5fyace/Otbn
FQdwSfN8MOyZifgd2MUI/33PpHxvuZ5n5ImDnbbsAT1Wghx1+zeBfFqnGAovhh1S
Kfedjyn3uVAD0DEpNdTsUkB/8eJwVV2ejeZyVnwQNZUl5iBx75t/lHwAcchsli7w
-----END CERTIFICATE-----
EOF
    } # end of the current key

    # Keys rotate every 90 days; see the runbook.
  }
}

# Trailing comment after the resource.

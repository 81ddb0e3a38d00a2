resource "auth0_client_credentials" "billing" {
  client_id             = "billing-id"
  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name            = "placeholder"
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = file("keys/placeholder.pem")
    }
  }
}

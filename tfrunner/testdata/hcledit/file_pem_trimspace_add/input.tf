resource "auth0_client_credentials" "inventory" {
  client_id             = "iNvEnToRySyNc0003"
  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name            = "inventory-a"
      credential_type = "public_key"
      pem             = trimspace(file("${path.module}/keys/inventory-a.pem"))
    }
  }
}

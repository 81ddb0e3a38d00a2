variable "billing_keys" {
  description = "The billing worker's public keys: name and PEM file."
  type = list(object({
    name     = string
    pem_file = string
  }))
}

resource "auth0_client_credentials" "billing" {
  client_id             = "billing-id"
  authentication_method = "private_key_jwt"

  private_key_jwt {
    dynamic "credentials" {
      for_each = var.billing_keys
      iterator = key
      content {
        name            = key.value.name
        credential_type = "public_key"
        algorithm       = "RS256"
        pem             = file(key.value.pem_file)
      }
    }
  }
}

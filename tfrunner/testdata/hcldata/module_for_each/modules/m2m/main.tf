variable "client_id" {
  type = string
}

variable "keys" {
  type = list(object({ name = string, pem = string }))
}

resource "auth0_client_credentials" "this" {
  client_id             = var.client_id
  authentication_method = "private_key_jwt"

  private_key_jwt {
    dynamic "credentials" {
      for_each = var.keys
      content {
        name            = credentials.value.name
        credential_type = "public_key"
        algorithm       = "RS256"
        pem             = credentials.value.pem
      }
    }
  }
}

variable "client_id" {
  type = string
}

variable "public_keys" {
  description = "Key name => PEM file, relative to this module."
  type        = map(string)
}

resource "auth0_client_credentials" "this" {
  client_id             = var.client_id
  authentication_method = "private_key_jwt"

  private_key_jwt {
    dynamic "credentials" {
      for_each = var.public_keys
      content {
        name            = credentials.key
        credential_type = "public_key"
        algorithm       = "RS256"
        pem             = file("${path.module}/${credentials.value}")
      }
    }
  }
}

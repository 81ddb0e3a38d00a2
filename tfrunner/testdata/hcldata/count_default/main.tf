variable "clients" {
  default = [
    {
      client_id = "billing-id"
      keys = [
        { name = "billing-a", pem = "-----BEGIN PUBLIC KEY-----\nYmlsbGluZy1h\n-----END PUBLIC KEY-----\n" },
      ]
    },
  ]
}

resource "auth0_client_credentials" "this" {
  count                 = length(var.clients)
  client_id             = var.clients[count.index].client_id
  authentication_method = "private_key_jwt"

  private_key_jwt {
    dynamic "credentials" {
      for_each = var.clients[count.index].keys
      content {
        name            = credentials.value.name
        credential_type = "public_key"
        algorithm       = "RS256"
        pem             = credentials.value.pem
      }
    }
  }
}

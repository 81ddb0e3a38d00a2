resource "auth0_client_credentials" "reporting" {
  client_id             = "rEpOrTiNgCrOn0002"
  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name            = "reporting-2025"
      credential_type = "public_key"
      algorithm       = "RS384"
      pem             = file("keys/reporting-2025.pem")
      expires_at      = "2026-03-01T00:00:00Z"
    }

    credentials {
      name            = "reporting-2026"
      credential_type = "public_key"
      algorithm       = "RS384"
      pem             = file("keys/reporting-2026.pem")
    }
  }
}

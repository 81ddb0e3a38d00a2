# Billing worker: its client is managed by another team's workspace.
resource "auth0_client_credentials" "billing" {
  client_id             = "kTq9xBillingWorker0001"
  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name                   = "billing-2025-01"
      credential_type        = "public_key"
      algorithm              = "RS256"
      parse_expiry_from_cert = true
      pem                    = <<EOT
-----BEGIN CERTIFICATE-----
94OL45iO5k/rgb5aKlN9gu1wJKVB+qeBKOKxBqovBwelk7FliP7q+9nBzBT9xaxW
MfBLgDz7hq0uxOc0mjaKnAPdvJiQclNYarMa2Og3LRLpluhWvi8w5a1b5+GbNFBs
dlp31Tgv1s7Uqb+zVsysfuUZdUtcT9C3LCh2wDRiRZtCkxQXvecXHfkBPuTOODOC
QpilvD2S5SM1j62WDzerthWznndQTMolxsv1WnFXdPnavkMuEMK0wxUs9rj4BaLG
-----END CERTIFICATE-----
EOT
    }
  }
}

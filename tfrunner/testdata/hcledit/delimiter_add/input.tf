resource "auth0_client_credentials" "billing" {
  client_id             = "kTq9xBillingWorker0001"
  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name            = "billing-a"
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = <<-EOT
        -----BEGIN PUBLIC KEY-----
        2CozcwN7GjjHVe7uhNUnps3MpWZYHzUDn8ceKwtB+I85LbVsRnD8jv7kqwphdHsB
        LWClzeFpPNfQnYkH3wxQFtezvrQG9eacIffBfz6+ZpH7saBFQTvyhA0CUDXBHmss
        peRp10DTPbXdhgter0AK6bZjPpEf/KpFrLAujZj5e0FyK2rvpCEZF82cKcpGBf8k
        NYOTDQALYV/pTZJZY4nWBuL4oTwLAqXVw+BUVxQZ6GeQ1U9yVowh+HhJWhRvn6lu
        -----END PUBLIC KEY-----
      EOT
    }
  }
}

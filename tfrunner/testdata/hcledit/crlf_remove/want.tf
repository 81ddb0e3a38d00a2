resource "auth0_client_credentials" "billing" {
  client_id             = "kTq9xBillingWorker0001"
  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name            = "billing-b"
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = <<EOF
-----BEGIN PUBLIC KEY-----
u72IQAGVrYyjfp/EvLPAelD/wWoOHaF8dlRQ+3mLLo2ZidE2oD+I/tmYsWN79AXZ
Canr/s9BMLtfVH93f2RNYJqaEwAwUQ2kY7451NlRl9I3k7ayDxayqOUBfQ/dOD9B
BONckzOXRsWrlfQ6zUlO3KfvPsVPvv1W8pTUx7hG1AUdLmdHqZ4CC3Ru5LrfHHMc
YKMu4M/FratN1F2cnZGKfkerB9z7TWRNzo9XCZeJruw+lXFVLR7p/NvBXagfsttC
-----END PUBLIC KEY-----
EOF
    }
  }
}

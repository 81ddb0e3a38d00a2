resource "auth0_client_credentials" "inventory" {
  client_id             = auth0_client.inventory.id
  authentication_method = "private_key_jwt"

  private_key_jwt {
    credentials {
      name            = "inventory-1"
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = <<EOF
-----BEGIN PUBLIC KEY-----
oFW+ANW0PzWWlM9G52s1k3CRIVWUnmZQxKC0EH1rBI0q2Yx4rlfYA3wu0Ts/NDHz
2OhTxZ1ozjkdX/8QfvqMbJILMwq8Ne608iRW860DX8zV+mopokZ2RsBicYEurfZL
RphP0GR/+uSM4Rs6KJva7EKT8EJ+5obycHRLwb+zRkgxFulg4js7z/gJ69vdxaSC
qWxNUtqyOtIrIY9D428MiXXSx3oGyxx2yV8zPrqhZv4PuI6pEpjoC6T/iuVyO8MT
-----END PUBLIC KEY-----
EOF
    }
  }
}

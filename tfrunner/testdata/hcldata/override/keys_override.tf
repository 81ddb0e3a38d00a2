# The real keys, kept apart from the shared configuration.
resource "auth0_client_credentials" "billing" {
  private_key_jwt {
    credentials {
      name            = "billing-a"
      credential_type = "public_key"
      algorithm       = "RS256"
      pem             = <<EOF
-----BEGIN PUBLIC KEY-----
YmlsbGluZy1hL2JpbGxpbmctYS9iaWxsaW5nLWEvYmlsbGluZy1hL2JpbGxpbmct
YS9iaWxsaW5nLWEvYmlsbGluZy1hL2JpbGxpbmctYS9iaWxsaW5nLWEvYmlsbGlu
Zy1hL2JpbGxpbmctYS9iaWxsaW5nLWEvYmlsbGluZy1hL2JpbGxpbmctYS9iaWxs
aW5nLWEvYmlsbGluZy1hL2JpbGxpbmctYS9iaWxsaW5nLWEvYmlsbGluZy1hL2Jp
bGxpbmctYS9iaWxsaW5nLWEvYmlsbGluZy1hL2JpbGxpbmctYS9iaWxsaW5nLWEv
-----END PUBLIC KEY-----
EOF
    }
  }
}

resource "auth0_client" "inventory" {
  name     = "inventory"
  app_type = "non_interactive"

  jwt_configuration {
    alg = "RS256"
  }
}

resource "auth0_client" "billing" {
  name     = "billing"
  app_type = "non_interactive"

  jwt_configuration {
    alg = "RS256"
  }
}

module "billing" {
  source    = "./modules/client-keys"
  client_id = "billing-id"
  public_keys = {
    "billing-a" = "keys/billing-a.pem"
  }
}

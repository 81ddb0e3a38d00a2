package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/auth0/go-auth0/management"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
)

// credentialsResource is auth0_client_credentials. With legacy set it behaves like provider
// ≤ 1.46: a credential change replaces the resource, and Delete empties the client's pool.
type credentialsResource struct {
	api    *management.Management
	legacy bool
}

// Metadata names the resource auth0_client_credentials.
func (r *credentialsResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_client_credentials"
}

// Schema describes auth0_client_credentials.
func (r *credentialsResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = credentialsSchema()
}

// Configure takes the Management API client from the provider.
func (r *credentialsResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.api = managementFrom(req, resp)
}

// Create configures the client's authentication method and credentials.
func (r *credentialsResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	plan, creds, block, diags := getCredentials(ctx, req.Plan.Get)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	a := credentialAPI{api: r.api, clientID: plan.ClientID.ValueString()}
	if _, found, err := a.appType(ctx); err != nil || !found {
		resp.Diagnostics.AddError("Failed to configure the client's credentials", clientMissing(a.clientID, err))
		return
	}
	var owned []credentialModel
	var err error
	if block {
		owned, err = r.createAll(ctx, a, creds)
	} else if method := plan.AuthenticationMethod.ValueString(); method != "" {
		err = a.revert(ctx, method)
	}
	if err != nil {
		resp.Diagnostics.AddError("Failed to configure the client's credentials", err.Error())
		return
	}
	r.saveState(ctx, a.clientID, owned, creds, block, &resp.State, &resp.Diagnostics)
}

// createAll creates and attaches creds (facts §4.2), deleting them all again if any step fails.
func (r *credentialsResource) createAll(ctx context.Context, a credentialAPI, creds []credentialModel) ([]credentialModel, error) {
	x := rotation{credentialAPI: a}
	var err error
	for _, c := range creds {
		var created credentialModel
		if created, err = a.create(ctx, c); err != nil {
			break
		}
		x.owned = append(x.owned, created)
		x.attached = append(x.attached, created.ID.ValueString())
	}
	if err == nil {
		if err = a.attach(ctx, x.attached); err == nil {
			return x.owned, nil
		}
	}
	for _, c := range x.owned {
		err = errors.Join(err, x.rollback(ctx, c))
	}
	return nil, err
}

// Read refreshes the credentials attached to the client.
func (r *credentialsResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	state, owned, block, diags := getCredentials(ctx, req.State.Get)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.saveState(ctx, state.ClientID.ValueString(), owned, owned, block, &resp.State, &resp.Diagnostics)
}

// Update changes the credentials in place. The state records the credentials as the real
// provider does from the plan (see recordedAs), or, after a failure, what was really done.
func (r *credentialsResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	plan, planned, block, diags := getCredentials(ctx, req.Plan.Get)
	resp.Diagnostics.Append(diags...)
	_, prior, _, diags := getCredentials(ctx, req.State.Get)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	x, err := r.update(ctx, plan, planned, prior, block)
	recorded := planned
	if err != nil {
		resp.Diagnostics.AddError("Failed to update the client's credentials", err.Error())
		recorded = x.owned
	}
	r.saveState(ctx, x.clientID, x.owned, recorded, block, &resp.State, &resp.Diagnostics)
}

// update applies a credential change in provider v1.52+ order (facts §4.4) and returns the
// rotation, whose owned list is what the state should keep even when it failed half way.
func (r *credentialsResource) update(ctx context.Context, plan credentialsModel, planned, prior []credentialModel, block bool) (*rotation, error) {
	d := diffCredentials(planned, prior)
	x := &rotation{credentialAPI: credentialAPI{api: r.api, clientID: plan.ClientID.ValueString()}, owned: append(slices.Clone(d.kept), d.removals...)}
	appType, found, err := x.appType(ctx)
	if err != nil || !found {
		return x, errors.New(clientMissing(x.clientID, err))
	}
	pool, err := x.pool(ctx)
	if err != nil {
		return x, err
	}
	for _, p := range prior {
		if slices.ContainsFunc(pool, func(c *management.Credential) bool { return c.GetID() == p.ID.ValueString() }) {
			x.attached = append(x.attached, p.ID.ValueString())
		}
	}
	if err := x.run(ctx, planRotation(d.additions, d.removals, len(x.attached), len(pool))); err != nil {
		return x, err
	}
	for _, e := range d.expiries {
		updated, err := x.setExpiry(ctx, e)
		if err != nil {
			return x, err
		}
		if i := slices.IndexFunc(x.owned, func(o credentialModel) bool { return o.ID.Equal(e.ID) }); i >= 0 {
			x.owned[i] = updated
		}
	}
	if method := plan.AuthenticationMethod.ValueString(); !block && (len(prior) > 0 || method != "") {
		if method == "" || method == "private_key_jwt" {
			method = defaultAuthMethod(appType)
		}
		return x, x.revert(ctx, method)
	}
	return x, nil
}

// Delete reverts the client to a client secret and deletes the credentials.
func (r *credentialsResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	state, owned, _, diags := getCredentials(ctx, req.State.Get)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(r.delete(ctx, credentialAPI{api: r.api, clientID: state.ClientID.ValueString()}, owned)...)
}

// delete reverts the client to its app type's default secret method and deletes the
// credentials in state (facts §4.5, v1.55), or every credential of the client (≤ 1.54).
func (r *credentialsResource) delete(ctx context.Context, a credentialAPI, owned []credentialModel) (diags diag.Diagnostics) {
	appType, found, err := a.appType(ctx)
	if err != nil {
		diags.AddError("Failed to delete the client's credentials", err.Error())
	}
	if err != nil || !found {
		return diags
	}
	var ids []string
	for _, o := range owned {
		ids = append(ids, o.ID.ValueString())
	}
	if r.legacy {
		pool, err := a.pool(ctx)
		if err != nil {
			diags.AddError("Failed to delete the client's credentials", err.Error())
			return diags
		}
		ids = ids[:0]
		for _, c := range pool {
			ids = append(ids, c.GetID())
		}
	}
	if err := a.revert(ctx, defaultAuthMethod(appType)); err != nil {
		diags.AddError("Failed to delete the client's credentials", err.Error())
		return diags
	}
	for _, id := range ids {
		err := a.remove(ctx, id)
		switch {
		case err == nil:
		case !r.legacy && stillAssociated(err):
			diags.AddWarning("Credential still in use", err.Error())
		default:
			diags.AddError("Failed to delete the client's credentials", err.Error())
		}
	}
	return diags
}

// ImportState imports the credentials of a client by the client's id.
func (r *credentialsResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("client_id"), req.ID)...)
}

// getCredentials decodes a plan or state through get, with its private_key_jwt credentials and whether it has the block.
func getCredentials(ctx context.Context, get func(context.Context, any) diag.Diagnostics) (m credentialsModel, creds []credentialModel, block bool, diags diag.Diagnostics) {
	diags = get(ctx, &m)
	creds, block, _, d := m.credentials(ctx)
	diags.Append(d...)
	return m, creds, block, diags
}

// saveState reads the resource back from the tenant into st (see readState); a client that
// no longer exists removes the resource.
func (r *credentialsResource) saveState(ctx context.Context, clientID string, owned, recorded []credentialModel, block bool, st *tfsdk.State, diags *diag.Diagnostics) {
	m, found, d := r.readState(ctx, clientID, owned, recorded, block)
	diags.Append(d...)
	switch {
	case d.HasError():
	case !found:
		st.RemoveResource(ctx)
	default:
		diags.Append(st.Set(ctx, m)...)
	}
}

// clientMissing explains why a client could not be used.
func clientMissing(clientID string, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("Client %s does not exist.", clientID)
}

// stillAssociated reports Auth0's refusal to delete a credential that is still attached.
func stillAssociated(err error) bool {
	var mErr management.Error
	return errors.As(err, &mErr) && mErr.Status() == http.StatusBadRequest && strings.Contains(err.Error(), "still associated")
}

package provider

import (
	"context"

	"github.com/auth0/go-auth0/management"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// clientResource is auth0_client, reduced to the fields a Private Key JWT client needs.
type clientResource struct {
	api *management.Management
}

// clientModel is the state of an auth0_client.
type clientModel struct {
	ID               types.String       `tfsdk:"id"`
	ClientID         types.String       `tfsdk:"client_id"`
	Name             types.String       `tfsdk:"name"`
	AppType          types.String       `tfsdk:"app_type"`
	GrantTypes       types.List         `tfsdk:"grant_types"`
	JWTConfiguration []jwtConfiguration `tfsdk:"jwt_configuration"`
}

// jwtConfiguration is the jwt_configuration block.
type jwtConfiguration struct {
	Alg types.String `tfsdk:"alg"`
}

// Metadata names the resource auth0_client.
func (r *clientResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_client"
}

// Schema describes auth0_client with the real provider's flags for these attributes: app_type
// and jwt_configuration.alg are optional, with no default, and the schema version is 0.
func (r *clientResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		Description: "An Auth0 application.",
		Attributes: map[string]schema.Attribute{
			"id":        schema.StringAttribute{Computed: true, PlanModifiers: keep},
			"client_id": schema.StringAttribute{Computed: true, PlanModifiers: keep, Description: "The ID of the client."},
			"name":      schema.StringAttribute{Required: true, Description: "Name of the client."},
			"app_type": schema.StringAttribute{
				Optional:    true,
				Validators:  []validator.String{stringvalidator.OneOf("native", "spa", "regular_web", "non_interactive", "resource_server", "express_configuration")},
				Description: "Type of application the client represents.",
			},
			"grant_types": schema.ListAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()},
				Description:   "Types of grants that this client is authorized to use.",
			},
		},
		Blocks: map[string]schema.Block{
			"jwt_configuration": schema.ListNestedBlock{
				Validators: []validator.List{listvalidator.SizeAtMost(1)},
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"alg": schema.StringAttribute{
						Optional:    true,
						Validators:  []validator.String{stringvalidator.OneOf("HS256", "RS256", "PS256")},
						Description: "Algorithm used to sign JWTs.",
					},
				}},
				Description: "Configuration settings for the JWTs issued for this client.",
			},
		},
	}
}

// Configure takes the Management API client from the provider.
func (r *clientResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.api = managementFrom(req, resp)
}

// Create creates the client.
func (r *clientResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	plan, c, diags := plannedClient(ctx, req.Plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.api.Client.Create(ctx, c); err != nil {
		resp.Diagnostics.AddError("Failed to create the client", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan.fromAPI(ctx, c))...)
}

// Read refreshes the client; a deleted client leaves the state.
func (r *clientResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state clientModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := r.api.Client.Read(ctx, state.ID.ValueString())
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	} else if err != nil {
		resp.Diagnostics.AddError("Failed to read the client", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state.fromAPI(ctx, c))...)
}

// Update changes the client in place.
func (r *clientResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	plan, c, diags := plannedClient(ctx, req.Plan)
	resp.Diagnostics.Append(diags...)
	var state clientModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.api.Client.Update(ctx, state.ID.ValueString(), c); err != nil {
		resp.Diagnostics.AddError("Failed to update the client", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan.fromAPI(ctx, c))...)
}

// Delete deletes the client; one already gone counts as deleted.
func (r *clientResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state clientModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.api.Client.Delete(ctx, state.ID.ValueString()); err != nil && !isNotFound(err) {
		resp.Diagnostics.AddError("Failed to delete the client", err.Error())
	}
}

// ImportState imports a client by its id.
func (r *clientResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// plannedClient decodes plan and returns it with the create or update body it asks for.
func plannedClient(ctx context.Context, plan tfsdk.Plan) (m clientModel, c *management.Client, diags diag.Diagnostics) {
	if diags = plan.Get(ctx, &m); diags.HasError() {
		return m, nil, diags
	}
	c, d := m.toAPI(ctx)
	diags.Append(d...)
	return m, c, diags
}

// toAPI is the create or update body: only the fields this resource manages, and only when
// the plan knows them.
func (m clientModel) toAPI(ctx context.Context) (*management.Client, diag.Diagnostics) {
	c := &management.Client{Name: m.Name.ValueStringPointer()}
	if !m.AppType.IsUnknown() {
		c.AppType = m.AppType.ValueStringPointer()
	}
	var diags diag.Diagnostics
	if !m.GrantTypes.IsUnknown() && !m.GrantTypes.IsNull() {
		grants := []string{}
		diags = m.GrantTypes.ElementsAs(ctx, &grants, false)
		c.GrantTypes = &grants
	}
	if len(m.JWTConfiguration) > 0 && !m.JWTConfiguration[0].Alg.IsUnknown() && !m.JWTConfiguration[0].Alg.IsNull() {
		c.JWTConfiguration = &management.ClientJWTConfiguration{Algorithm: m.JWTConfiguration[0].Alg.ValueStringPointer()}
	}
	return c, diags
}

// fromAPI is m updated with what the API returned; jwt_configuration is recorded only when
// the configuration has the block, since a block cannot be computed.
func (m clientModel) fromAPI(ctx context.Context, c *management.Client) clientModel {
	m.ID = types.StringValue(c.GetClientID())
	m.ClientID = m.ID
	m.Name = types.StringValue(c.GetName())
	m.AppType = types.StringValue(c.GetAppType())
	m.GrantTypes = types.ListNull(types.StringType)
	if c.GrantTypes != nil {
		m.GrantTypes, _ = types.ListValueFrom(ctx, types.StringType, c.GetGrantTypes())
	}
	if len(m.JWTConfiguration) > 0 {
		m.JWTConfiguration = []jwtConfiguration{{Alg: types.StringValue(c.GetJWTConfiguration().GetAlgorithm())}}
	}
	return m
}

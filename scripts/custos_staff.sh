# Shell helpers for scripts that drive the `custos` CLI (sourced, not run): since issue 3 every
# data command needs an API token (docs/access.md). Usage:
#   source scripts/custos_staff.sh
#   admin=$(custos_init_json_token < init.json)          # from `custos --json init DIR`
#   clerk=$(custos_staff_token "$CUSTOS" "$VAULT" "$admin" clerk sales_rep sales)
#   CUSTOS_TOKEN=$clerk custos ...
# custos_staff_token creates the staff member with a random initial password, records a
# current privacy-basics training (the P5b gate), and logs in for one day changing the
# initial password to another (an initial password is changed at the first login); it prints
# the token.

custos_init_json_token() {
  sed -n 's/.*"admin_token":"\(cst_[a-z2-7]*\)".*/\1/p'
}

# The DPO's one-time token from the same JSON (meant for a different person than the admin's).
custos_init_json_dpo_token() {
  sed -n 's/.*"dpo_token":"\(cst_[a-z2-7]*\)".*/\1/p'
}

# custos_first_password_token CUSTOS VAULT INIT_TOKEN ID — an account without a password (the
# DPO after init) sets its own first password with its own one-time token on the vault host
# (nobody else knows it, so the account may approve the administrator's requests), then
# logs in for one day; prints the token.
custos_first_password_token() {
  local custos=$1 vault=$2 token=$3 id=$4
  local own
  own="pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  CUSTOS_TOKEN=$token CUSTOS_NEW_PASSWORD=$own "$custos" --vault "$vault" staff passwd "$id" >/dev/null
  CUSTOS_PASSWORD=$own "$custos" --vault "$vault" --json token issue "$id" --ttl 1d |
    sed -n 's/.*"token":"\(cst_[a-z2-7]*\)".*/\1/p'
}

# custos_staff_token CUSTOS VAULT ADMIN_TOKEN ID POST ROLE
custos_staff_token() {
  local custos=$1 vault=$2 admin=$3 id=$4 post=$5 role=$6
  local pw own
  pw="pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  own="pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  CUSTOS_TOKEN=$admin CUSTOS_NEW_PASSWORD=$pw "$custos" --vault "$vault" \
    staff add "$id" --name "$id" --post "$post" --role "$role" --with-password >/dev/null
  CUSTOS_TOKEN=$admin "$custos" --vault "$vault" training add "$id" --course privacy-basics \
    --completed "$(date -u +%F)" --valid-until "$(date -u -d '+1 year' +%F)" >/dev/null
  CUSTOS_PASSWORD=$pw CUSTOS_NEW_PASSWORD=$own "$custos" --vault "$vault" --json token issue "$id" \
    --ttl 1d --new-password | sed -n 's/.*"token":"\(cst_[a-z2-7]*\)".*/\1/p'
}

# custos_grant_role CUSTOS VAULT ADMIN_TOKEN APPROVER_TOKEN ID ROLE — dual control over a role
# that reads confidential fields unmasked or decides approvals (dpo, security_admin,
# risk_officer; docs/access.md): the administrator asks for a role_grant for ID and ROLE, and
# a second person (the DPO's token) approves it. Then custos_staff_token may create ID with ROLE.
custos_grant_role() {
  local custos=$1 vault=$2 admin=$3 approver=$4 id=$5 role=$6
  local asked
  asked=$(CUSTOS_TOKEN=$admin "$custos" --vault "$vault" --json approval request --kind role_grant \
    --staff "$id" --role "$role" --justification "a new $role for this vault" --duration 1h |
    sed -n 's/.*"approval_id":"\([0-9A-Z]*\)".*/\1/p')
  CUSTOS_TOKEN=$approver "$custos" --vault "$vault" approval approve "$asked" >/dev/null
}

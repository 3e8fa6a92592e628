-- Identity and access (docs/security.md). Profiles never carry the password hash.

-- name: register_user
SELECT id, uuid, username, email, first_name, last_name, phone, status::text AS status, kyc_level, last_login_at, failed_login_attempts, locked_until, version, created_at, updated_at, roles
  FROM exchange.register_user(%(username)s, %(email)s, %(password)s,
                              %(first_name)s, %(last_name)s, %(phone)s);

-- name: bootstrap_admin
SELECT id, uuid, username, email, first_name, last_name, phone, status::text AS status, kyc_level, last_login_at, failed_login_attempts, locked_until, version, created_at, updated_at, roles
  FROM exchange.bootstrap_admin(%(username)s, %(email)s, %(password)s);

-- name: activate_user
SELECT id, uuid, username, email, first_name, last_name, phone, status::text AS status, kyc_level, last_login_at, failed_login_attempts, locked_until, version, created_at, updated_at, roles
  FROM exchange.activate_user(%(user_id)s);

-- name: set_user_status
SELECT id, uuid, username, email, first_name, last_name, phone, status::text AS status, kyc_level, last_login_at, failed_login_attempts, locked_until, version, created_at, updated_at, roles
  FROM exchange.set_user_status(%(user_id)s, %(status)s::exchange.user_status, %(reason)s);

-- name: get_user
SELECT id, uuid, username, email, first_name, last_name, phone, status::text AS status, kyc_level, last_login_at, failed_login_attempts, locked_until, version, created_at, updated_at, roles
  FROM exchange.get_user(%(user_id)s);

-- name: find_user
SELECT id, uuid, username, email, first_name, last_name, phone, status::text AS status, kyc_level, last_login_at, failed_login_attempts, locked_until, version, created_at, updated_at, roles
  FROM exchange.find_user(%(login)s);

-- name: update_user_profile
SELECT id, uuid, username, email, first_name, last_name, phone, status::text AS status, kyc_level, last_login_at, failed_login_attempts, locked_until, version, created_at, updated_at, roles
  FROM exchange.update_user_profile(%(user_id)s, %(expected_version)s, %(first_name)s,
                                    %(last_name)s, %(phone)s, %(email)s);

-- name: authenticate
SELECT authenticated, error_code, message, user_id, user_uuid, username, kyc_level, last_login_at
  FROM exchange.authenticate(%(login)s, %(password)s);

-- name: change_password
SELECT exchange.change_password(%(user_id)s, %(current_password)s, %(new_password)s);

-- name: grant_role
SELECT exchange.grant_role(%(user_id)s, %(role)s);

-- name: revoke_role
SELECT exchange.revoke_role(%(user_id)s, %(role)s);

-- name: has_permission
SELECT exchange.has_permission(%(user_id)s, %(resource)s, %(action)s);

-- name: submit_kyc
SELECT id, user_id, requested_level, status::text AS status, documents, reviewer_id, review_note, submitted_at, reviewed_at
  FROM exchange.submit_kyc(%(user_id)s, %(level)s, %(documents)s);

-- name: approve_kyc
SELECT id, user_id, requested_level, status::text AS status, documents, reviewer_id, review_note, submitted_at, reviewed_at
  FROM exchange.approve_kyc(%(reviewer_id)s, %(verification_id)s, %(note)s);

-- name: reject_kyc
SELECT id, user_id, requested_level, status::text AS status, documents, reviewer_id, review_note, submitted_at, reviewed_at
  FROM exchange.reject_kyc(%(reviewer_id)s, %(verification_id)s, %(note)s);

-- name: list_kyc_verifications
SELECT id, user_id, requested_level, status::text AS status, documents, reviewer_id, review_note, submitted_at, reviewed_at
  FROM exchange.list_kyc_verifications(%(user_id)s);

-- name: set_kyc_limit
SELECT level, action, asset_id, allowed, daily_limit
  FROM exchange.set_kyc_limit(%(level)s, %(action)s, %(asset_id)s, %(allowed)s, %(daily_limit)s);

-- name: audit_trail
SELECT id, db_role, app_user_id, table_name, operation, entity_key, old_values, new_values,
       created_at
  FROM exchange.audit_trail(%(entity)s, %(entity_id)s, %(limit)s);

-- name: create_login
SELECT exchange.create_login(%(name)s, %(kind)s, %(password)s);

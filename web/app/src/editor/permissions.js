// Who may change what, as the screens offer it. The server decides (and refuses with 403);
// these only keep buttons away from people who could not use them.

/** Whether the signed-in user may register new plots (draw, walk, import). */
export function mayCreate(s) {
  return ['admin', 'officer', 'cooperative'].includes(s?.user?.role);
}

function inJurisdiction(user, p) {
  return (user.jurisdictions || []).some((j) => (j.commune_code ? j.commune_code === p.commune_code : j.province_code === p.province_code));
}

/**
 * What the user may do to a plot (its properties) whose producer is producer (or null):
 * {shape, details, farmer}: shape covers the geometry, split, merge and delete; details the
 * properties; farmer that only crop, variety and planting year may change.
 */
export function mayEdit(s, props, producer) {
  const user = s?.user;
  const none = { shape: false, details: false, farmer: false };
  if (!s?.signed_in || !user || !props) return none;
  switch (user.role) {
    case 'admin':
      return { shape: true, details: true, farmer: false };
    case 'officer':
      return inJurisdiction(user, props) ? { shape: true, details: true, farmer: false } : none;
    case 'cooperative': {
      const own = user.producer_id != null && (props.producer_id === user.producer_id || producer?.cooperative_id === user.producer_id);
      return own ? { shape: true, details: true, farmer: false } : none;
    }
    case 'farmer':
      return user.producer_id != null && props.producer_id === user.producer_id ? { shape: false, details: true, farmer: true } : none;
    default:
      return none;
  }
}

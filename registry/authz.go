package registry

import "slices"

// Access is what an actor may do with one object.
type Access int

// Access levels, each including the ones before it.
const (
	// AccessNone: the object does not exist for the actor (404, not 403: a farmer does not
	// learn which plots exist).
	AccessNone Access = iota
	// AccessPublic: the public view, without personal data.
	AccessPublic
	// AccessFull: every field, personal ones included.
	AccessFull
	// AccessWrite: every field, and the object may be changed.
	AccessWrite
)

// Place is where an object is and whom it belongs to: what authorization looks at.
type Place struct {
	ProvinceCode string
	CommuneCode  string
	// OwnerID is the producer the object belongs to (a plot's producer, a producer itself).
	OwnerID *int64
	// OwnerCooperativeID is the cooperative of that producer, if it is a member of one.
	OwnerCooperativeID *int64
}

// InJurisdiction reports whether an officer's jurisdiction covers a province and commune.
func (a Actor) InJurisdiction(province, commune string) bool {
	if province == "" {
		return false
	}
	return slices.ContainsFunc(a.Jurisdictions, func(j Jurisdiction) bool {
		return j.ProvinceCode == province && (j.CommuneCode == "" || j.CommuneCode == commune)
	})
}

// speaksFor reports whether the actor's producer is id.
func (a Actor) speaksFor(id *int64) bool {
	return a.ProducerID != nil && id != nil && *a.ProducerID == *id
}

// PlotAccess is the rule for plots:
//   - admins and system jobs change any plot;
//   - officers change plots in their jurisdiction and see the public view of others;
//   - a cooperative changes its members' plots (and its own) and sees the public view of others;
//   - a farmer sees and changes only their own plots: others do not exist for them;
//   - exporters and the public see the public view.
func PlotAccess(a Actor, p Place) Access {
	switch a.Role {
	case RoleAdmin:
		return AccessWrite
	case RoleOfficer:
		if a.InJurisdiction(p.ProvinceCode, p.CommuneCode) {
			return AccessWrite
		}
	case RoleCooperative:
		if a.speaksFor(p.OwnerID) || a.speaksFor(p.OwnerCooperativeID) {
			return AccessWrite
		}
	case RoleFarmer:
		if a.speaksFor(p.OwnerID) {
			return AccessWrite
		}
		return AccessNone
	}
	return AccessPublic
}

// ProducerAccess is the rule for producers: the same as for plots, except that a farmer may
// read but not change their own record (officers and cooperatives keep it), and an exporter
// sees its own enterprise in full.
func ProducerAccess(a Actor, p Place) Access {
	switch a.Role {
	case RoleFarmer:
		if a.speaksFor(p.OwnerID) {
			return AccessFull
		}
		return AccessNone
	case RoleExporter:
		if a.speaksFor(p.OwnerID) {
			return AccessFull
		}
		return AccessPublic
	}
	return PlotAccess(a, p)
}

// CheckFarmerPlotChange returns EFORBIDDEN when a farmer's change touches more than what a
// farmer keeps up to date (crop, variety, planting year): the boundary, owner and place are
// the officers' and cooperatives' to change.
func CheckFarmerPlotChange(a Actor, before, after *Plot) error {
	if a.Role != RoleFarmer {
		return nil
	}
	same := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	if !before.Geometry.Equal(after.Geometry) || !same(before.ProducerID, after.ProducerID) ||
		before.CommuneCode != after.CommuneCode || before.ProvinceCode != after.ProvinceCode ||
		before.CadastralSheet != after.CadastralSheet || before.CadastralParcel != after.CadastralParcel ||
		before.LandCertNo != after.LandCertNo || before.Source != after.Source || before.ExternalID != after.ExternalID {
		return Errorf(EFORBIDDEN, "a farmer may change the crop, variety and planting year of their plots; ask your cooperative or the agriculture officer to change its boundary, owner or cadastral numbers")
	}
	return nil
}

// CanManageUser reports whether the actor may create or reset the password of an account with
// role for producer (with its place): admins manage everyone; officers manage farmer and
// cooperative accounts of producers in their jurisdiction; a cooperative manages the farmer
// accounts of its members.
func CanManageUser(a Actor, role string, producer Place) bool {
	switch a.Role {
	case RoleAdmin:
		return true
	case RoleOfficer:
		return (role == RoleFarmer || role == RoleCooperative) && a.InJurisdiction(producer.ProvinceCode, producer.CommuneCode)
	case RoleCooperative:
		return role == RoleFarmer && a.speaksFor(producer.OwnerCooperativeID)
	}
	return false
}

// Redact clears the plot's fields that only AccessFull may see: the owner and the cadastral
// and certificate numbers, which identify a person through the land registry.
func (p *Plot) Redact() {
	p.ProducerID = nil
	p.CadastralSheet, p.CadastralParcel, p.LandCertNo = "", "", ""
	p.CreatedBy, p.UpdatedBy = "", ""
}

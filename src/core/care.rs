//! Settings of care and the budget sectors their spend falls in. The sets are fixed in code,
//! because interventions, budgets and metrics refer to them by type; their rates and costs
//! are data.

crate::labelled_enum! {
    /// A setting of care. The set is fixed in code because interventions and budgets refer
    /// to settings by type; their rates and costs are data.
    #[derive(
        Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
    )]
    #[serde(rename_all = "snake_case")]
    pub enum Setting {
        GpAppointments => "gp_appointments",
        OtherPrimaryCare => "other_primary_care",
        CommunityNursing => "community_nursing",
        CommunityMentalHealth => "community_mental_health",
        AeAttendances => "ae_attendances",
        EmergencyAdmissions => "emergency_admissions",
        EmergencyBedDays => "emergency_bed_days",
        ElectiveAdmissions => "elective_admissions",
        OutpatientAttendances => "outpatient_attendances",
        HomeCareHours => "home_care_hours",
        CareHomeWeeks => "care_home_weeks",
    }
}

impl Setting {
    /// The setting whose count this one is derived from, if any (bed days per admission).
    pub fn derived_from(self) -> Option<Setting> {
        match self {
            Setting::EmergencyBedDays => Some(Setting::EmergencyAdmissions),
            _ => None,
        }
    }

    /// Hospital settings: their unexplained variation between areas shares a common
    /// hospital factor (supply, admission thresholds), besides a part of their own.
    pub fn is_hospital(self) -> bool {
        match self {
            Setting::AeAttendances
            | Setting::EmergencyAdmissions
            | Setting::EmergencyBedDays
            | Setting::ElectiveAdmissions
            | Setting::OutpatientAttendances => true,
            Setting::GpAppointments
            | Setting::OtherPrimaryCare
            | Setting::CommunityNursing
            | Setting::CommunityMentalHealth
            | Setting::HomeCareHours
            | Setting::CareHomeWeeks => false,
        }
    }

    /// Settings delivered in people's homes, where staff travel to the patient, so that
    /// distance (rurality) raises the cost of a unit of care.
    pub fn cost_rises_with_distance(self) -> bool {
        match self {
            Setting::CommunityNursing | Setting::HomeCareHours => true,
            Setting::GpAppointments
            | Setting::OtherPrimaryCare
            | Setting::CommunityMentalHealth
            | Setting::AeAttendances
            | Setting::EmergencyAdmissions
            | Setting::EmergencyBedDays
            | Setting::ElectiveAdmissions
            | Setting::OutpatientAttendances
            | Setting::CareHomeWeeks => false,
        }
    }
}

crate::labelled_enum! {
    /// The budget sector a setting's spend falls in.
    #[derive(
        Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
    )]
    #[serde(rename_all = "snake_case")]
    pub enum Sector {
        Acute => "acute",
        Community => "community",
        PrimaryCare => "primary_care",
        MentalHealth => "mental_health",
        SocialCare => "social_care",
    }
}

/// Number of settings (derived from the enum).
pub const N_SETTINGS: usize = Setting::COUNT;
/// Number of sectors (derived from the enum).
pub const N_SECTORS: usize = Sector::COUNT;

#[cfg(test)]
mod tests {
    use super::*;

    /// Scenario files name settings and sectors through serde; outputs through `id`.
    #[test]
    fn serde_names_are_the_ids() {
        for s in Setting::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.id()));
        }
        for s in Sector::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.id()));
        }
    }
}

//! Settings of care and the budget sectors their spend falls in. The sets are fixed in code,
//! because interventions, budgets and metrics refer to them by type; their rates and costs
//! are data.

/// A setting of care. The set is fixed in code because interventions and budgets refer to
/// settings by type; their rates and costs are data.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    GpAppointments,
    OtherPrimaryCare,
    CommunityNursing,
    CommunityMentalHealth,
    AeAttendances,
    EmergencyAdmissions,
    EmergencyBedDays,
    ElectiveAdmissions,
    OutpatientAttendances,
    HomeCareHours,
    CareHomeWeeks,
}

impl Setting {
    pub const ALL: [Setting; 11] = [
        Setting::GpAppointments,
        Setting::OtherPrimaryCare,
        Setting::CommunityNursing,
        Setting::CommunityMentalHealth,
        Setting::AeAttendances,
        Setting::EmergencyAdmissions,
        Setting::EmergencyBedDays,
        Setting::ElectiveAdmissions,
        Setting::OutpatientAttendances,
        Setting::HomeCareHours,
        Setting::CareHomeWeeks,
    ];

    /// The id used in datasets and outputs.
    pub fn id(self) -> &'static str {
        match self {
            Setting::GpAppointments => "gp_appointments",
            Setting::OtherPrimaryCare => "other_primary_care",
            Setting::CommunityNursing => "community_nursing",
            Setting::CommunityMentalHealth => "community_mental_health",
            Setting::AeAttendances => "ae_attendances",
            Setting::EmergencyAdmissions => "emergency_admissions",
            Setting::EmergencyBedDays => "emergency_bed_days",
            Setting::ElectiveAdmissions => "elective_admissions",
            Setting::OutpatientAttendances => "outpatient_attendances",
            Setting::HomeCareHours => "home_care_hours",
            Setting::CareHomeWeeks => "care_home_weeks",
        }
    }

    /// The setting whose count this one is derived from, if any (bed days per admission).
    pub fn derived_from(self) -> Option<Setting> {
        match self {
            Setting::EmergencyBedDays => Some(Setting::EmergencyAdmissions),
            _ => None,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The budget sector a setting's spend falls in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    Acute,
    Community,
    PrimaryCare,
    MentalHealth,
    SocialCare,
}

impl Sector {
    pub const ALL: [Sector; 5] = [
        Sector::Acute,
        Sector::Community,
        Sector::PrimaryCare,
        Sector::MentalHealth,
        Sector::SocialCare,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Sector::Acute => "acute",
            Sector::Community => "community",
            Sector::PrimaryCare => "primary_care",
            Sector::MentalHealth => "mental_health",
            Sector::SocialCare => "social_care",
        }
    }
}

pub const N_SETTINGS: usize = Setting::ALL.len();

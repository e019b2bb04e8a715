"""ACLED's event taxonomy: six event types and the 25 sub-event types under them.

The labels are ACLED's own spelling so that CSV output lines up with ACLED
exports. The mapping is the single source of truth for the rule "a sub-event
type belongs to its event type"; the schema validator and the prompts both
read it from here.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """ACLED's six event types."""

    BATTLES = "Battles"
    EXPLOSIONS_REMOTE_VIOLENCE = "Explosions/Remote violence"
    VIOLENCE_AGAINST_CIVILIANS = "Violence against civilians"
    PROTESTS = "Protests"
    RIOTS = "Riots"
    STRATEGIC_DEVELOPMENTS = "Strategic developments"


class SubEventType(StrEnum):
    """ACLED's 25 sub-event types."""

    ARMED_CLASH = "Armed clash"
    GOVERNMENT_REGAINS_TERRITORY = "Government regains territory"
    NON_STATE_ACTOR_OVERTAKES_TERRITORY = "Non-state actor overtakes territory"
    CHEMICAL_WEAPON = "Chemical weapon"
    AIR_DRONE_STRIKE = "Air/drone strike"
    SUICIDE_BOMB = "Suicide bomb"
    SHELLING_ARTILLERY_MISSILE = "Shelling/artillery/missile attack"
    REMOTE_EXPLOSIVE = "Remote explosive/landmine/IED"
    GRENADE = "Grenade"
    SEXUAL_VIOLENCE = "Sexual violence"
    ATTACK = "Attack"
    ABDUCTION = "Abduction/forced disappearance"
    PEACEFUL_PROTEST = "Peaceful protest"
    PROTEST_WITH_INTERVENTION = "Protest with intervention"
    EXCESSIVE_FORCE_AGAINST_PROTESTERS = "Excessive force against protesters"
    VIOLENT_DEMONSTRATION = "Violent demonstration"
    MOB_VIOLENCE = "Mob violence"
    AGREEMENT = "Agreement"
    ARRESTS = "Arrests"
    CHANGE_TO_GROUP_ACTIVITY = "Change to group/activity"
    DISRUPTED_WEAPONS_USE = "Disrupted weapons use"
    HEADQUARTERS_ESTABLISHED = "Headquarters or base established"
    LOOTING_PROPERTY_DESTRUCTION = "Looting/property destruction"
    NON_VIOLENT_TRANSFER_OF_TERRITORY = "Non-violent transfer of territory"
    OTHER = "Other"


S = SubEventType
SUB_EVENT_TYPES: dict[EventType, tuple[SubEventType, ...]] = {
    EventType.BATTLES: (
        S.ARMED_CLASH,
        S.GOVERNMENT_REGAINS_TERRITORY,
        S.NON_STATE_ACTOR_OVERTAKES_TERRITORY,
    ),
    EventType.EXPLOSIONS_REMOTE_VIOLENCE: (
        S.CHEMICAL_WEAPON,
        S.AIR_DRONE_STRIKE,
        S.SUICIDE_BOMB,
        S.SHELLING_ARTILLERY_MISSILE,
        S.REMOTE_EXPLOSIVE,
        S.GRENADE,
    ),
    EventType.VIOLENCE_AGAINST_CIVILIANS: (S.SEXUAL_VIOLENCE, S.ATTACK, S.ABDUCTION),
    EventType.PROTESTS: (
        S.PEACEFUL_PROTEST,
        S.PROTEST_WITH_INTERVENTION,
        S.EXCESSIVE_FORCE_AGAINST_PROTESTERS,
    ),
    EventType.RIOTS: (S.VIOLENT_DEMONSTRATION, S.MOB_VIOLENCE),
    EventType.STRATEGIC_DEVELOPMENTS: (
        S.AGREEMENT,
        S.ARRESTS,
        S.CHANGE_TO_GROUP_ACTIVITY,
        S.DISRUPTED_WEAPONS_USE,
        S.HEADQUARTERS_ESTABLISHED,
        S.LOOTING_PROPERTY_DESTRUCTION,
        S.NON_VIOLENT_TRANSFER_OF_TERRITORY,
        S.OTHER,
    ),
}
del S

EVENT_TYPE_OF: dict[SubEventType, EventType] = {
    sub: event_type for event_type, subs in SUB_EVENT_TYPES.items() for sub in subs
}


class ActorCategory(StrEnum):
    """ACLED's actor categories (inter codes 1-8), in words."""

    STATE_FORCES = "state forces"
    REBEL_GROUP = "rebel group"
    POLITICAL_MILITIA = "political militia"
    IDENTITY_MILITIA = "identity militia"
    RIOTERS = "rioters"
    PROTESTERS = "protesters"
    CIVILIANS = "civilians"
    EXTERNAL_OTHER = "external/other"


class DatePrecision(StrEnum):
    """How closely the date range pins the event down (ACLED time precision, UCDP date_prec)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    UNKNOWN = "unknown"


class GeoPrecision(StrEnum):
    """How closely the location pins the event down (ACLED geo precision 1-3, plus country)."""

    PLACE = "named place"
    NEAR_PLACE = "near named place"
    REGION = "region or natural feature"
    COUNTRY = "country only"

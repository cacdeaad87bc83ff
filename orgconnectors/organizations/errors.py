from orgconnectors.core.errors import ServiceError


class OrganizationError(ServiceError):
    pass


class LastOwnerError(OrganizationError):
    code = "last_owner"


class InvitationInvalid(OrganizationError):
    code = "invitation_invalid"


class SettingInvalid(OrganizationError):
    code = "setting_invalid"


class RetentionError(OrganizationError):
    code = "retention_invalid"

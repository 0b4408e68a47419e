"""Flask-AppBuilder's own UI words that its Chinese catalog leaves in English (or lacks).

Never imported: this module only lists the msgids so that `scripts/i18n.sh extract` keeps them
in our catalog, which is merged after Flask-AppBuilder's and so overrides it. Add a word here
when a Chinese page shows an English word that comes from Flask-AppBuilder's templates or views.
"""

from app.workflow import N_

FAB_MESSAGES = [
    # model views: buttons, list and search widgets (templates/appbuilder/general/lib.html)
    N_("Add"),
    N_("Edit"),
    N_("Show"),
    N_("Delete"),
    N_("Back"),
    N_("Save"),
    N_("Search"),
    N_("Refresh"),
    N_("Actions"),
    N_("Record Count"),
    N_("Add Filter"),
    N_("List"),
    N_("Are you sure you want to delete this item?"),
    N_("User confirmation needed"),
    N_("OK"),
    N_("Yes"),
    N_("No"),
    N_("Database Error"),
    N_("Not a valid choice"),
    # search filters (models/sqla/filters.py, models/generic/filters.py)
    N_("Contains (insensitive)"),
    N_("Start with"),
    N_("In"),
    N_("Not In"),
    N_("Starts with"),
    N_("Not Starts with"),
    N_("Ends with"),
    N_("Not Ends with"),
    N_("Relation"),
    N_("No Relation"),
    # security views and menus (security/views.py, security/manager.py)
    N_("Security"),
    N_("List Users"),
    N_("List Roles"),
    N_("List Groups"),
    N_("Groups"),
    N_("Show Group"),
    N_("Add Group"),
    N_("Edit Group"),
    N_("Edit User Information"),
    N_("User information changed"),
    N_("Either select a role or a group"),
    N_("The user's password for authentication"),
    N_("Username valid for authentication on DB or LDAP, unused for OID auth"),
    N_("The user's email, this will also be used for OID auth"),
    N_("It's not a good policy to remove a user, just make it inactive"),
    N_("User(s) exists in the role, cannot delete"),
    N_("User(s) exists in the group, cannot delete"),
    # FAB's built-in role (the workflow roles are labelled by ROLE_LABELS in app/workflow.py)
    N_("Public"),
    N_(
        "Must have at least two capital letters, one special character, two digits, three "
        "lower case letters and a minimal length of 10."
    ),
]

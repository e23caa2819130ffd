# installation rules and CPack (owned by the packaging work)

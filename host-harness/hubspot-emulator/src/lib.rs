//! A local emulator of the HubSpot CRM API (placeholder; being written).

//! Folder use cases: a user's saved filters of the list sections, for users whom
//! access-svc grants the system operation "CanUseFolders" (every external user by
//! default). A folder is only ever reached through its owner, so another user's folder
//! is NOT_FOUND. The stored
//! filter is opaque here (the adapter encodes and checks it); lists apply it through
//! [`Folders::folder_of_section`].

use service_kit::{Caller, access::AccessClient, clock::Clock};

use crate::{
    domain::{
        folders::{Section, would_cycle},
        knowledge::{DAY_MS, KnowledgeError},
    },
    knowledge::version_of,
    storage::{
        folders::{FolderFields, FolderRecord, FolderStore, Refusal},
        knowledge::{Change, Created, RequestKey},
    },
};

/// The system operation that lets a user use folders.
pub const USE_FOLDERS: &str = "CanUseFolders";

#[derive(Debug, Clone)]
pub struct Folders {
    store: FolderStore,
    clock: Clock,
    access: AccessClient,
}

fn folder_not_found(id: &str) -> KnowledgeError {
    KnowledgeError::NotFound("folder", id.to_owned())
}

fn refused(refusal: Refusal) -> KnowledgeError {
    match refusal {
        Refusal::NameTaken => {
            KnowledgeError::NameTaken("the parent folder already has a folder with this name; choose another".into())
        }
        Refusal::TooMany => KnowledgeError::Limit(
            "TOO_MANY_FOLDERS",
            format!(
                "you have {} folders, the most allowed; delete some first",
                crate::domain::folders::MAX_FOLDERS_PER_USER
            ),
        ),
    }
}

impl Folders {
    pub fn new(store: FolderStore, clock: Clock, access: AccessClient) -> Self {
        Self { store, clock, access }
    }

    /// Refuses a caller whom access-svc does not grant the use of folders.
    async fn require_use(&self, caller: &Caller) -> Result<(), KnowledgeError> {
        if self.access.check_system_operation(&caller.user_id, USE_FOLDERS).await? {
            return Ok(());
        }
        Err(KnowledgeError::Denied(
            "FOLDERS_NOT_GRANTED",
            format!("you may not use folders (system operation {USE_FOLDERS}); ask your administrator"),
        ))
    }

    /// Checks that `parent_id` ('' for none) is a folder of the caller in `section`.
    async fn check_parent(&self, caller: &Caller, section: Section, parent_id: &str) -> Result<(), KnowledgeError> {
        if parent_id.is_empty() {
            return Ok(());
        }
        match self.store.folder(parent_id, &caller.user_id).await? {
            Some(parent) if parent.section == section.code() => Ok(()),
            _ => Err(KnowledgeError::invalid(
                "folder.parent_folder_id",
                "must be one of your folders of the same section, or empty for a root folder",
            )),
        }
    }

    /// Creates a folder of the caller; a retried call with the same request id returns the first.
    pub async fn create(
        &self,
        caller: &Caller,
        section: Section,
        fields: &FolderFields,
        request_id: &str,
    ) -> Result<FolderRecord, KnowledgeError> {
        self.require_use(caller).await?;
        self.check_parent(caller, section, &fields.parent_id).await?;
        let now = self.clock.now();
        let key = RequestKey { user_id: &caller.user_id, kind: "folder", request_id };
        let id = match self.store.insert(&caller.user_id, section, fields, key, now, now - DAY_MS).await? {
            Ok(Created::New(id) | Created::Earlier(id)) => id,
            Err(refusal) => return Err(refused(refusal)),
        };
        self.folder(caller, &id).await
    }

    /// One folder of the caller.
    pub async fn folder(&self, caller: &Caller, id: &str) -> Result<FolderRecord, KnowledgeError> {
        self.require_use(caller).await?;
        self.store.folder(id, &caller.user_id).await?.ok_or_else(|| folder_not_found(id))
    }

    /// One folder of the caller in `section`; another section's folder is NOT_FOUND.
    pub async fn folder_of_section(
        &self,
        caller: &Caller,
        id: &str,
        section: Section,
    ) -> Result<FolderRecord, KnowledgeError> {
        let folder = self.folder(caller, id).await?;
        if folder.section == section.code() { Ok(folder) } else { Err(folder_not_found(id)) }
    }

    /// A page of the caller's folders of `section`, by name.
    pub async fn list(
        &self,
        caller: &Caller,
        section: Section,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<FolderRecord>, KnowledgeError> {
        self.require_use(caller).await?;
        self.store.list(&caller.user_id, section, after, limit).await
    }

    /// Replaces the folder's fields (the adapter merged the unchanged ones in) if `etag`
    /// (when given) is current.
    pub async fn update(
        &self,
        caller: &Caller,
        current: &FolderRecord,
        etag: &str,
        fields: &FolderFields,
    ) -> Result<FolderRecord, KnowledgeError> {
        let section = Section::from_code(&current.section)
            .ok_or_else(|| KnowledgeError::Corrupt(format!("folder section '{}'", current.section)))?;
        if fields.parent_id != current.parent_id {
            self.check_parent(caller, section, &fields.parent_id).await?;
            let parents = self.store.parents(&caller.user_id, section).await?;
            if would_cycle(&current.id, &fields.parent_id, &parents) {
                return Err(KnowledgeError::invalid(
                    "folder.parent_folder_id",
                    "would put the folder inside itself; choose a folder outside it",
                ));
            }
        }
        let version = if etag.is_empty() { current.version } else { version_of(etag)? };
        let now = self.clock.now();
        match self.store.update(&current.id, &caller.user_id, version, fields, now).await? {
            Ok(Change::Done(())) => self.folder(caller, &current.id).await,
            Ok(Change::NotFound) => Err(folder_not_found(&current.id)),
            Ok(Change::Stale) => Err(KnowledgeError::Stale("folder")),
            Err(refusal) => Err(refused(refusal)),
        }
    }

    /// Deletes a childless folder of the caller (never the records it shows).
    pub async fn delete(&self, caller: &Caller, id: &str, etag: &str) -> Result<(), KnowledgeError> {
        self.require_use(caller).await?;
        let version = if etag.is_empty() { None } else { Some(version_of(etag)?) };
        match self.store.delete(id, &caller.user_id, version).await? {
            Change::Done(true) => Ok(()),
            Change::Done(false) => Err(KnowledgeError::Refused(
                "FOLDER_HAS_CHILDREN",
                "the folder has subfolders; delete or move them first".into(),
            )),
            Change::NotFound => Err(folder_not_found(id)),
            Change::Stale => Err(KnowledgeError::Stale("folder")),
        }
    }
}
